/* deflate_opts.h - wsc_deflate_options (the public permessage-deflate
 * settings) turned into the protocol core's offer (client) and acceptance
 * rules (server) of src/proto/pmd.h (internal). */
#ifndef WSC_API_DEFLATE_OPTS_H
#define WSC_API_DEFLATE_OPTS_H

#include <stddef.h>

#include "proto/conn.h"
#include "proto/pmd.h"
#include "wsc.h"

/* 0 when every field is in range (the same ranges for both roles), else
 * WSC_EINVAL. */
int wsc__deflate_opts_check(const wsc_deflate_options *o);

/* Client: 1 with *out the offer to make, 0 when nothing is offered (mode
 * WSC_DEFLATE_OFF). o must have passed wsc__deflate_opts_check. */
int wsc__deflate_opts_offer(const wsc_deflate_options *o, wsc__pmd_offer *out);

/* Server: what it accepts (enabled only with WSC_DEFLATE_ON), with the
 * documented defaults filled in. */
void wsc__deflate_opts_server(const wsc_deflate_options *o, wsc__pmd_server *out);

/* Attach the agreement to the conn with the options' threshold (whole
 * messages shorter than it go out plain) and compression level. 0,
 * WSC_EINVAL or WSC_ENOMEM (wsc__conn_set_deflate). */
int wsc__deflate_opts_attach(const wsc_deflate_options *o, wsc__conn *c,
                             const wsc__pmd_params *agreed);

#endif
