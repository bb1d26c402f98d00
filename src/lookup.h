/*
 * lookup: (being written)
 */
#ifndef KS_LOOKUP_H
#define KS_LOOKUP_H
#endif
