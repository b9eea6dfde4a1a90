/*
 * rpc_int.h — internals shared by the files of lib/rpc (not part of the public API).
 */
#ifndef LW_RPC_INT_H
#define LW_RPC_INT_H

#include "ladewerk/rpc.h"

/* True when s is valid raw JSON string content: no quote, no raw control character, only
 * well-formed escapes (exactly what the frame parser accepts between quotes). */
bool lw_rpc_raw_string_ok(lw_str_t s);

#endif
