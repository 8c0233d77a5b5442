/*
 * vmx.c - VMware .vmx configuration files as VM descriptions.
 *
 * A .vmx file is VMware's per-VM configuration: one `key = "value"` per
 * line, read by every VMware product (Workstation, Fusion, ESXi). The
 * format as VMware writes and reads it:
 *
 *   - blank lines and lines whose first non-blank character is '#' are
 *     ignored; a '#' after a complete value starts a comment too;
 *   - keys are dotted names ("sched.mem.min", "scsi0:0.fileName",
 *     ".encoding", "pciPassthru*.present") compared without regard to
 *     case ("memSize" is "memsize");
 *   - values are in double quotes, even numbers and booleans; inside the
 *     quotes VMware escapes bytes as '|' and two hexadecimal digits
 *     ("|22" is '"', "|7C" is '|', "|0A" a newline), which we decode. A
 *     bare word without quotes is accepted as well (hand-written files);
 *   - a key given twice: the last line wins, as a later line overrides an
 *     earlier one when VMware reads the file;
 *   - booleans are "TRUE"/"FALSE" in any case (also yes/no, 1/0, on/off).
 *
 * Of the keys we read only those about memory (vSphere Resource
 * Management, "Memory Virtualization Basics" and "Set Advanced Virtual
 * Machine Attributes"); every other key is ignored so real files load as
 * they are:
 *
 *   memsize                  configured memory, MiB (VMware: a multiple
 *                            of 4); 32 when absent, as in libvirt
 *   sched.mem.min            reservation, MiB (libvirt's VMX driver writes
 *                            the same as sched.mem.minsize: both read)
 *   sched.mem.max            limit, MiB; "-1" or absent: unlimited
 *   sched.mem.shares         low / normal / high (5 / 10 / 20 per MiB of
 *                            memsize, ESX's scale) or a number of shares
 *   sched.mem.pshare.enable  FALSE: no transparent page sharing
 *   sched.mem.pshare.salt    the VM's sharing salt, under the host's
 *                            Mem.ShareForceSalting 1 or 2 (<sharing
 *                            salting>; docs/presets.md)
 *   sched.mem.maxmemctl      most MiB the balloon may take (below the
 *                            host's <balloon max>); "0" disables
 *                            ballooning for this VM; -1 = no bound
 *   displayName              the VM's name (else the file name)
 *   guestOS                  "windows*", "win*", "longhorn*" -> the
 *                            Windows guest model, anything else -> Linux
 *   numa.nodeAffinity        NUMA nodes the VM may use ("0,1"): the first
 *                            is its home node
 *   monitor.virtual_mmu      "software": shadow page tables; "hardware"
 *                            or "automatic" (what ESX picks on a CPU with
 *                            EPT/RVI): nested paging, guest memory backed
 *                            with 2 MiB host pages as ESX does by default
 *                            (Mem.AllocGuestLargePage = 1). The key turns
 *                            on memvisor's MMU model for the VM (<mv:mmu>)
 *
 * The balloon driver (vmmemctl) is part of VMware Tools, which lives in the
 * guest; the .vmx file only shows whether Tools were installed through
 * VMware's installer: `toolsInstallManager.updateCounter` counts the
 * installations and upgrades (vSphere API ToolsConfigInfo.lastInstallInfo.
 * counter) and Workstation clears `tools.remindInstall` ("FALSE") once
 * Tools are in. Keys such as `tools.syncTime` or `tools.upgrade.policy`
 * are settings present whether or not Tools are installed, so they say
 * nothing. memvisor therefore gives the VM a balloon driver when
 * updateCounter > 0 or remindInstall is FALSE, and when the file says
 * `memvisor.tools = "TRUE"` (open-vm-tools from the distribution leaves no
 * trace in the .vmx; VMware keeps unknown keys, so the setting survives);
 * `memvisor.tools = "FALSE"` or sched.mem.maxmemctl = "0" take it away.
 *
 * Errors are "file.vmx:LINE: KEY: problem", KEY as written in the file.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim/readers.h"

#define VMX_MAX_KEY 128
#define VMX_DEFAULT_MEMSIZE_MIB 32
#define VMX_MAX_VALUE 4096
#define VMX_MAX_LINES 1000000

struct vmx_entry {
	char key[VMX_MAX_KEY]; /* as written, for messages */
	char *value;           /* decoded, NUL-terminated */
	int line;
};

struct vmx {
	const char *file;
	struct mv_error *err;
	struct vmx_entry *e;
	int n;
	size_t cap;
};

static int vmx_fail(const struct vmx *x, int line, const char *key,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int vmx_fail(const struct vmx *x, int line, const char *key,
		    const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = mv_error_vset(x->err, MV_EINVAL, x->file, line, key, fmt, ap);
	va_end(ap);
	return rc;
}

static void vmx_free(struct vmx *x)
{
	for (int i = 0; i < x->n; i++)
		free(x->e[i].value);
	free(x->e);
	x->e = NULL;
	x->n = x->cap = 0;
}

/* '*' appears in real files ("pciPassthru*.present", libvirt's
 * vmx2xmldata/esx-in-the-wild-14.vmx), which libvirt loads. */
static int is_key_char(int c)
{
	return isalnum(c) || c == '.' || c == '_' || c == ':' || c == '-' ||
	       c == '[' || c == ']' || c == '*';
}

static int add_entry(struct vmx *x, const char *key, size_t klen,
		     const char *val, size_t vlen, int line)
{
	if (mv_array_room(&x->e, &x->cap, (size_t)x->n, sizeof *x->e, 64))
		return mv_error_set(x->err, MV_ENOMEM, x->file, line, NULL,
				    "out of memory");
	struct vmx_entry *e = &x->e[x->n];
	e->value = malloc(vlen + 1);
	if (!e->value)
		return mv_error_set(x->err, MV_ENOMEM, x->file, line, NULL,
				    "out of memory");
	memcpy(e->key, key, klen);
	e->key[klen] = '\0';
	memcpy(e->value, val, vlen);
	e->value[vlen] = '\0';
	e->line = line;
	x->n++;
	return 0;
}

/*
 * One line (without its end of line) into x. A quoted value is decoded
 * into val[VMX_MAX_VALUE + 1].
 */
static int parse_line(struct vmx *x, const char *p, const char *end, int line,
		      char *val)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end || *p == '#')
		return 0;
	const char *k = p;
	while (p < end && is_key_char((unsigned char)*p))
		p++;
	size_t klen = (size_t)(p - k);
	if (klen == 0)
		return vmx_fail(x, line, "vmx",
				"expected a key such as memsize, found '%c'",
				isprint((unsigned char)*p) ? *p : '?');
	char key[VMX_MAX_KEY];
	if (klen >= sizeof key)
		return vmx_fail(x, line, "vmx",
				"key is longer than %d characters",
				VMX_MAX_KEY - 1);
	memcpy(key, k, klen);
	key[klen] = '\0';
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end || *p != '=')
		return vmx_fail(x, line, key, "expected '=' after the key");
	p++;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	size_t vlen = 0;
	if (p < end && *p == '"') {
		p++;
		for (;;) {
			if (p == end)
				return vmx_fail(x, line, key,
						"value has no closing '\"'");
			if (*p == '"')
				break;
			int c = (unsigned char)*p++;
			if (c == '|') {
				int hi = p < end ? mv_hex_digit(
							   (unsigned char)p[0])
						 : -1;
				int lo = p + 1 < end
						 ? mv_hex_digit(
							   (unsigned char)p[1])
						 : -1;
				if (hi < 0 || lo < 0)
					return vmx_fail(
						x, line, key,
						"'|' must be followed by two "
						"hexadecimal digits (|22 is "
						"'\"', |7C is '|')");
				c = hi * 16 + lo;
				p += 2;
				if (c == 0)
					return vmx_fail(x, line, key,
							"value contains |00");
			}
			if (vlen >= VMX_MAX_VALUE)
				return vmx_fail(x, line, key,
						"value is longer than %d "
						"bytes",
						VMX_MAX_VALUE);
			val[vlen++] = (char)c;
		}
		p++; /* closing quote */
	} else {
		while (p < end && *p != ' ' && *p != '\t' && *p != '#' &&
		       *p != '"') {
			if (vlen >= VMX_MAX_VALUE)
				return vmx_fail(x, line, key,
						"value is longer than %d "
						"bytes",
						VMX_MAX_VALUE);
			val[vlen++] = *p++;
		}
	}
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p < end && *p != '#')
		return vmx_fail(x, line, key,
				"unexpected text after the value (values "
				"are written \"...\")");
	return add_entry(x, key, klen, val, vlen, line);
}

/* Split text into lines ("\n" or "\r\n") and parse each. */
static int parse_text(struct vmx *x, const char *text, size_t len)
{
	char *val = malloc(VMX_MAX_VALUE + 1);
	if (!val)
		return mv_error_set(x->err, MV_ENOMEM, x->file, 0, NULL,
				    "out of memory");
	const char *p = text, *end = text + len;
	int line = 1, rc = 0;
	/* a UTF-8 byte order mark, as some editors write */
	if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	while (!rc && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		const char *z = memchr(p, '\0', (size_t)(eol - p));
		if (z)
			rc = vmx_fail(x, line, "vmx",
				      "NUL byte: not a text file");
		else if (line >= VMX_MAX_LINES)
			rc = vmx_fail(x, line, "vmx", "more than %d lines",
				      VMX_MAX_LINES);
		else
			rc = parse_line(x, p,
					eol > p && eol[-1] == '\r' ? eol - 1
								   : eol,
					line, val);
		p = nl ? nl + 1 : end;
		line++;
	}
	free(val);
	return rc;
}

/* The entry of `key` (any case) that counts: the last one; NULL if none. */
static const struct vmx_entry *get(const struct vmx *x, const char *key)
{
	for (int i = x->n - 1; i >= 0; i--)
		if (strcasecmp(x->e[i].key, key) == 0)
			return &x->e[i];
	return NULL;
}

/* A whole number of MiB (VMware writes "1024"; surrounding blanks ok). */
static int mib_value(const struct vmx *x, const struct vmx_entry *e,
		     int allow_unlimited, uint64_t *bytes, int *unlimited)
{
	char b[64];
	const char *v = e->value;
	while (*v == ' ')
		v++;
	size_t n = strlen(v);
	while (n && v[n - 1] == ' ')
		n--;
	if (n >= sizeof b)
		n = sizeof b - 1;
	memcpy(b, v, n);
	b[n] = '\0';
	if (unlimited)
		*unlimited = 0;
	if (allow_unlimited && strcmp(b, "-1") == 0) {
		*unlimited = 1;
		return 0;
	}
	uint64_t mib;
	if (mv_parse_u64(b, &mib) != 0 || mib > 1024 * 1024)
		return vmx_fail(x, e->line, e->key,
				"'%s' is not a whole number of MiB%s", e->value,
				allow_unlimited ? " (or -1 for unlimited)"
						: " up to 1048576");
	*bytes = mib * MV_MIB;
	return 0;
}

static int bool_value(const struct vmx *x, const struct vmx_entry *e, int *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	for (int i = 0; i < 4; i++) {
		if (strcasecmp(e->value, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(e->value, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return vmx_fail(x, e->line, e->key, "'%s' is not TRUE or FALSE",
			e->value);
}

static int starts_with_nocase(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * numa.nodeAffinity: node numbers separated by commas ("0", "0,1"), each
 * a node of the host; the first is the VM's home node (where its memory
 * is allocated first).
 */
static int node_affinity(const struct vmx *x, const struct vmx_entry *e,
			 int host_nodes, int *home)
{
	const char *p = e->value;
	int first = -1;
	for (;;) {
		while (*p == ' ')
			p++;
		if (*p < '0' || *p > '9')
			return vmx_fail(x, e->line, e->key,
					"'%s' is not a list of NUMA nodes "
					"(e.g. 0 or 0,1)",
					e->value);
		long node = 0;
		while (*p >= '0' && *p <= '9' && node <= 1000)
			node = node * 10 + (*p++ - '0');
		if (node >= host_nodes)
			return vmx_fail(x, e->line, e->key,
					"names node %ld, but the host has %d "
					"NUMA node%s",
					node, host_nodes,
					host_nodes == 1 ? "" : "s");
		if (first < 0)
			first = (int)node;
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		if (*p++ != ',')
			return vmx_fail(x, e->line, e->key,
					"'%s' is not a list of NUMA nodes "
					"(e.g. 0 or 0,1)",
					e->value);
	}
	*home = first;
	return 0;
}

/* Where each setting was, to place mv_vm_config_check's findings. */
struct vmx_lines {
	const struct vmx_entry *name, *mem, *min, *max;
};

/* Read the memory settings of a parsed file into spec. */
static int read_settings(const struct vmx *x, const char *default_name,
			 int host_nodes, struct mv_vm_spec *spec,
			 struct vmx_lines *at)
{
	struct mv_vm_config *vm = &spec->vm;
	const struct vmx_entry *e;
	int rc;

	at->name = get(x, "displayName");
	const char *name = at->name ? at->name->value : default_name;
	if (!name || !*name)
		return vmx_fail(x, at->name ? at->name->line : 0, "displayName",
				"must not be empty");
	if (strlen(name) >= sizeof vm->name)
		return vmx_fail(x, at->name ? at->name->line : 0, "displayName",
				"'%s' is longer than %zu characters", name,
				sizeof vm->name - 1);

	/* absent: 32 MiB, as VMware and libvirt's VMX driver assume */
	at->mem = get(x, "memsize");
	uint64_t mem = VMX_DEFAULT_MEMSIZE_MIB * MV_MIB;
	if (at->mem && (rc = mib_value(x, at->mem, 0, &mem, NULL)))
		return rc;
	if (mem == 0)
		return vmx_fail(x, at->mem->line, at->mem->key,
				"must be greater than 0");
	/* VMware refuses to power on otherwise ("not a multiple of 4") */
	if (mem % (4 * MV_MIB))
		return vmx_fail(x, at->mem->line, at->mem->key,
				"%llu MiB is not a multiple of 4",
				(unsigned long long)(mem / MV_MIB));

	mv_vm_config_default(vm, name, mem);
	mv_guest_config_default(&spec->guest);
	snprintf(vm->source, sizeof vm->source, "%s", x->file);
	vm->source_line = at->name  ? at->name->line
			  : at->mem ? at->mem->line
				    : 1;

	/* reservation: the later of sched.mem.min / sched.mem.minsize */
	const struct vmx_entry *mn = get(x, "sched.mem.min");
	const struct vmx_entry *ms = get(x, "sched.mem.minsize");
	at->min = mn && (!ms || mn->line > ms->line) ? mn : ms;
	if (at->min &&
	    (rc = mib_value(x, at->min, 0, &vm->reservation_bytes, NULL)))
		return rc;
	if (at->min && vm->reservation_bytes > mem)
		return vmx_fail(
			x, at->min->line, at->min->key,
			"%llu MiB exceeds memsize (%llu MiB)",
			(unsigned long long)(vm->reservation_bytes / MV_MIB),
			(unsigned long long)(mem / MV_MIB));

	if ((at->max = get(x, "sched.mem.max"))) {
		int unlimited;
		uint64_t limit;
		if ((rc = mib_value(x, at->max, 1, &limit, &unlimited)))
			return rc;
		if (!unlimited) {
			if (limit == 0)
				return vmx_fail(x, at->max->line, at->max->key,
						"must be greater than 0 (or "
						"-1 for unlimited)");
			if (limit < vm->reservation_bytes)
				return vmx_fail(
					x, at->max->line, at->max->key,
					"%llu MiB is below the reservation "
					"(%s = %llu MiB)",
					(unsigned long long)(limit / MV_MIB),
					at->min->key,
					(unsigned long long)(vm->reservation_bytes /
							     MV_MIB));
			vm->limit_bytes = limit;
		}
	}

	if ((e = get(x, "sched.mem.shares"))) {
		uint64_t per_mib = 0, v;
		if (strcasecmp(e->value, "low") == 0)
			per_mib = 5;
		else if (strcasecmp(e->value, "normal") == 0)
			per_mib = 10;
		else if (strcasecmp(e->value, "high") == 0)
			per_mib = 20;
		else if (mv_parse_u64(e->value, &v) == 0 && v <= 1000000000)
			vm->shares = v;
		else
			return vmx_fail(x, e->line, e->key,
					"'%s' is not low, normal, high or a "
					"number of shares",
					e->value);
		if (per_mib)
			vm->shares = per_mib * mem / MV_MIB;
	}

	if ((e = get(x, "sched.mem.pshare.enable")) &&
	    (rc = bool_value(x, e, &vm->sharing)))
		return rc;
	/* the VM's salt under Mem.ShareForceSalting 1 or 2 (KB 2097593) */
	if ((e = get(x, "sched.mem.pshare.salt"))) {
		if (!e->value[0] || strlen(e->value) >= sizeof vm->pshare_salt)
			return vmx_fail(x, e->line, e->key,
					"'%s' is not a salt of 1 to %zu "
					"characters",
					e->value, sizeof vm->pshare_salt - 1);
		snprintf(vm->pshare_salt, sizeof vm->pshare_salt, "%s",
			 e->value);
	}

	/* the balloon: Tools installed (see the top of the file) */
	int tools = 0;
	if ((e = get(x, "toolsInstallManager.updateCounter"))) {
		uint64_t v;
		if (mv_parse_u64(e->value, &v) != 0)
			return vmx_fail(x, e->line, e->key,
					"'%s' is not a whole number", e->value);
		tools |= v > 0;
	}
	if ((e = get(x, "tools.remindInstall"))) {
		int remind;
		if ((rc = bool_value(x, e, &remind)))
			return rc;
		tools |= !remind;
	}
	if ((e = get(x, "memvisor.tools")) && (rc = bool_value(x, e, &tools)))
		return rc;
	if ((e = get(x, "sched.mem.maxmemctl"))) {
		uint64_t bytes;
		int unlimited;
		if ((rc = mib_value(x, e, 1, &bytes, &unlimited)))
			return rc;
		if (!unlimited && bytes == 0)
			tools = 0;
		else if (!unlimited)
			vm->balloon_max_bytes = bytes;
	}
	vm->balloon_driver = tools;

	if ((e = get(x, "numa.nodeAffinity")) &&
	    (rc = node_affinity(x, e, host_nodes, &vm->home_node)))
		return rc;

	if ((e = get(x, "monitor.virtual_mmu"))) {
		struct mv_guest_config *g = &spec->guest;
		if (!strcasecmp(e->value, "software")) {
			mv_mmu_config_default(&g->mmu_cfg, MV_MMU_SHADOW);
		} else if (!strcasecmp(e->value, "hardware") ||
			   !strcasecmp(e->value, "automatic")) {
			mv_mmu_config_default(&g->mmu_cfg, MV_MMU_NESTED);
			vm->hugepages = 1;
		} else {
			return vmx_fail(x, e->line, e->key,
					"'%s' is not automatic, software or "
					"hardware",
					e->value);
		}
		g->mmu = 1;
	}

	if ((e = get(x, "guestOS")) &&
	    (starts_with_nocase(e->value, "win") ||
	     starts_with_nocase(e->value, "longhorn")))
		spec->guest.flavour = MV_GUEST_WINDOWS;
	return 0;
}

int mv_vmx_is_path(const char *path)
{
	size_t n = path ? strlen(path) : 0;
	return n > 4 && strcasecmp(path + n - 4, ".vmx") == 0;
}

/*
 * Parse a .vmx text into spec; then hold the VM to the rules every source
 * obeys (mv_vm_config_check), naming the .vmx key at fault.
 */
int mv_vmx_parse(const char *text, size_t len, const char *file,
		 const char *default_name, int host_nodes,
		 struct mv_vm_spec *spec, struct mv_error *err)
{
	struct mv_error dummy;
	struct vmx x = {file ? file : "<vmx>", err ? err : &dummy, NULL, 0, 0};
	if (len > MV_READER_MAX_BYTES)
		return vmx_fail(&x, 0, "vmx", "file is larger than 64 MiB");
	struct vmx_lines at = {0};
	int rc = parse_text(&x, text, len);
	if (!rc)
		rc = read_settings(&x, default_name, host_nodes, spec, &at);
	if (!rc && (rc = mv_vm_config_check(&spec->vm, x.err)) != 0) {
		const struct {
			const char *field, *key;
			const struct vmx_entry *e;
		} map[] = {
			{"name", "displayName", at.name},
			{"memory", "memsize", at.mem},
			{"memtune/hard_limit", "sched.mem.max", at.max},
			{"memtune/min_guarantee", "sched.mem.min", at.min},
		};
		for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
			if (strcmp(x.err->field, map[i].field) != 0)
				continue;
			snprintf(x.err->field, sizeof x.err->field, "%.63s",
				 map[i].e ? map[i].e->key : map[i].key);
			x.err->line = map[i].e ? map[i].e->line : 0;
			break;
		}
	}
	vmx_free(&x);
	return rc;
}
