/*
 * linkidx: (being written)
 */
#ifndef KS_LINKIDX_H
#define KS_LINKIDX_H
#endif
