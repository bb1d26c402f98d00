/*
 * lookup: (being written)
 */
#include "lookup.h"
