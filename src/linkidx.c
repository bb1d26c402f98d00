/*
 * linkidx: (being written)
 */
#include "linkidx.h"
