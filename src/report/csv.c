/*
 * csv.c - the run's time series as CSV, one file per VM and one for the
 * host, one row per stats interval (every sample the simulator took).
 *
 * Columns carry esxtop's memory-panel names where esxtop has the quantity
 * (MEMSZ, GRANT, SZTGT, TCHD, ACTV, SHRD, ZERO, SHRDSVD, MCTLSZ, MCTLTGT,
 * SWCUR, SWR/s, SWW/s, CACHESZ, CACHEUSD, ZIP/s, UNZIP/s; PMEM for the
 * host) and lower-case names otherwise; the table of column names in
 * docs/views.md gives each name one meaning across the text report, the
 * JSON, the CSV, the charts and the live screen (TCHD is the text's
 * TOUCHED, `active` its ACTIVE). Like esxtop, sizes are in MiB ("MB" in esxtop)
 * and rates in MiB/s over the interval that ends at the row (0 in the first
 * row). The format is RFC 4180 with a header line; no field needs quoting
 * (names and states are single words; a cluster's host and VM names
 * with a comma or a quote are refused at load), so a spreadsheet and `cut -d,`
 * read it alike.
 */
#include <string.h>

#include "memvisor/report.h"
#include "report/summary.h"
#include "report/views.h"

static double rate_mib(uint64_t now, uint64_t before, uint64_t dt_ns)
{
	return mv_per_s(mv_pages_mib(now >= before ? now - before : 0), dt_ns);
}

static const char host_header[] =
	"time_s,PMEM,usable,free,free_pct,state,consumed,MCTLSZ,SWCUR,"
	"CACHEUSD,SHRDSVD,pages_shared,pages_sharing,zero_pages\n";

static const char vm_header[] =
	"time_s,MEMSZ,GRANT,SZTGT,TCHD,ACTV,SHRD,ZERO,SHRDSVD,MCTLSZ,MCTLTGT,"
	"SWCUR,SWTGT,SWR/s,SWW/s,CACHESZ,CACHEUSD,ZIP/s,UNZIP/"
	"s,OVHD,consumed,private,"
	"compressed,ballooned,untouched,stall_pct,guest_unused,"
	"guest_disk_caches,guest_anon,xlat_pct,active\n";

int mv_report_csv_vm(FILE *out, const struct mv_sim *s, int vm)
{
	if (vm < 0)
		return mv_report_csv_host(out, s);
	return mv_csv_vm_rows(out, s, vm, NULL, 1);
}

int mv_csv_vm_rows(FILE *out, const struct mv_sim *s, int vm, const char *host,
		   int header)
{
	if (header)
		fprintf(out, "%s%s", host ? "host,vm," : "", vm_header);
	for (int k = 0; k < s->nsamples; k++) {
		const struct mv_sample *sm = &s->samples[k];
		const struct mv_sample_vm *v = mv_view_sample_vm(sm, vm);
		const struct mv_sample_vm *p = k ? mv_view_sample_vm(
							   &s->samples[k - 1],
							   vm)
						 : v;
		uint64_t dt = k ? sm->t_ns - s->samples[k - 1].t_ns : 0;
		/* esxtop's SZTGT is the size the resource manager aims the
		 * VM at: what it holds less what the policy asked back. */
		uint64_t sztgt = v->consumed > v->reclaim_wanted
					 ? v->consumed - v->reclaim_wanted
					 : 0;
		const double mib[] = {
			mv_pages_mib(mv_view_vm_pages(v)),
			mv_pages_mib(v->granted),
			mv_pages_mib(sztgt),
			mv_pages_mib(v->touched),
			mv_pages_mib(v->active_est),
			mv_pages_mib(v->state[MV_PS_SHARED] +
				     v->state[MV_PS_ZERO]),
			mv_pages_mib(v->state[MV_PS_ZERO]),
			mv_pages_mib(v->shared_saved),
			mv_pages_mib(v->guest.balloon_pages),
			mv_pages_mib(v->balloon_target),
			mv_pages_mib(v->state[MV_PS_SWAPPED]),
			mv_pages_mib(v->swap_target),
			rate_mib(v->swap.reads, p->swap.reads, dt),
			rate_mib(v->swap.writes, p->swap.writes, dt),
			mv_pages_mib(v->zcache.capacity_frames),
			mv_pages_mib(v->zcache.frames),
			rate_mib(v->zcache.compressed, p->zcache.compressed,
				 dt),
			rate_mib(v->zcache.decompressed, p->zcache.decompressed,
				 dt),
			(double)v->overhead_bytes / (double)MV_MIB,
			mv_pages_mib(v->consumed),
			mv_pages_mib(v->state[MV_PS_PRIVATE]),
			mv_pages_mib(v->state[MV_PS_COMPRESSED]),
			mv_pages_mib(v->state[MV_PS_BALLOONED]),
			mv_pages_mib(v->state[MV_PS_UNTOUCHED]),
			mv_pct((double)(v->stall_ns - p->stall_ns), (double)dt),
			mv_pages_mib(v->guest.free_pages),
			mv_pages_mib(v->guest.cache_pages),
			mv_pages_mib(v->guest.anon_pages),
			mv_pct((double)(v->xlat_ns - p->xlat_ns), (double)dt),
			mv_pages_mib(v->active_true),
		};
		if (host)
			fprintf(out, "%s,%s,", host, s->sc->vms[vm].vm.name);
		fprintf(out, "%.3f", (double)sm->t_ns / MV_NS_PER_S);
		for (size_t c = 0; c < sizeof mib / sizeof *mib; c++)
			fprintf(out, ",%.2f", mib[c]);
		fputc('\n', out);
	}
	return ferror(out) ? MV_EIO : 0;
}

int mv_report_csv_host(FILE *out, const struct mv_sim *s)
{
	return mv_csv_host_rows(out, s, NULL, 1);
}

int mv_csv_host_rows(FILE *out, const struct mv_sim *s, const char *host,
		     int header)
{
	if (header)
		fprintf(out, "%s%s", host ? "host," : "", host_header);
	double pmem = (double)s->sc->host.mem_bytes / (double)MV_MIB;
	uint64_t usable = mv_sim_usable_frames(s);
	for (int k = 0; k < s->nsamples; k++) {
		const struct mv_sample *sm = &s->samples[k];
		uint64_t consumed = 0, mctl = 0, swcur = 0, cache = 0;
		for (int i = 0; i < sm->nvms; i++) {
			consumed += sm->vm[i].consumed;
			mctl += sm->vm[i].guest.balloon_pages;
			swcur += sm->vm[i].state[MV_PS_SWAPPED];
			cache += sm->vm[i].zcache.frames;
		}
		if (host)
			fprintf(out, "%s,", host);
		fprintf(out,
			"%.3f,%.2f,%.2f,%.2f,%.2f,%s,%.2f,%.2f,%.2f,%.2f,%.2f,"
			"%llu,%llu,%llu\n",
			(double)sm->t_ns / MV_NS_PER_S, pmem,
			mv_pages_mib(usable), mv_pages_mib(sm->host_free),
			mv_pct((double)sm->host_free, (double)usable),
			mv_memstate_name(sm->memstate), mv_pages_mib(consumed),
			mv_pages_mib(mctl), mv_pages_mib(swcur),
			mv_pages_mib(cache),
			mv_pages_mib(mv_share_saved_pages(&sm->share)),
			(unsigned long long)sm->share.pages_shared,
			(unsigned long long)sm->share.pages_sharing,
			(unsigned long long)sm->share.zero_pages);
	}
	return ferror(out) ? MV_EIO : 0;
}

int mv_report_csv(const char *dir, const struct mv_sim *s, struct mv_error *err)
{
	return mv_view_write_dir(dir, s, "csv", mv_report_csv_vm, err);
}
