/*
 * image/profile.h - what the profile reader and writer share (layer
 * internal).
 */
#ifndef MV_IMAGE_PROFILE_H
#define MV_IMAGE_PROFILE_H

#include "memvisor/image.h"

#define MV_PROFILE_SCHEMA "memvisor-profile/1"

#endif
