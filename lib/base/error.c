/*
 * error.c — names and texts for the LW_E* codes of LW_ERRNO_MAP (include/ladewerk/base.h).
 */
#include "ladewerk/base.h"

const char *lw_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
#define LW_ERR_TEXT(name, code, text)                                                              \
    case code:                                                                                     \
        return text;
        LW_ERRNO_MAP(LW_ERR_TEXT)
#undef LW_ERR_TEXT
    }
    return "unknown error";
}

const char *lw_err_name(int err)
{
    switch (err) {
    case 0:
        return "0";
#define LW_ERR_NAME(name, code, text)                                                              \
    case code:                                                                                     \
        return "LW_E" #name;
        LW_ERRNO_MAP(LW_ERR_NAME)
#undef LW_ERR_NAME
    }
    return "LW_E?";
}
