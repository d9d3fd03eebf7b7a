/* SPDX-License-Identifier: Apache-2.0 */
/* err.h - the one error enum; each row also gives the HTTP status and the error body `type`.
 *
 * Functions return 0 on success or a negative enum tams_err. The `type` string is what the
 * client sees in {"type", "summary", "time"}; the summary is per occurrence (see http/respond.h).
 */
#ifndef TAMS_CORE_ERR_H
#define TAMS_CORE_ERR_H

/* XX(name, http status, type, default summary) */
#define TAMS_ERR_MAP(XX)                                                                           \
    XX(BADREQUEST, 400, "BadRequest", "the request is malformed")                                  \
    XX(BADJSON, 400, "BadRequest", "the request body is not valid JSON")                           \
    XX(BADTIMERANGE, 400, "BadRequest", "invalid timerange")                                       \
    XX(BADTIMESTAMP, 400, "BadRequest", "invalid timestamp")                                       \
    XX(OVERFLOW, 400, "BadRequest", "value is outside the supported range")                        \
    XX(BADQUERY, 400, "BadRequest", "invalid query parameter")                                     \
    XX(BADPAGE, 400, "BadRequest", "invalid or forged page key")                                   \
    XX(VALIDATION, 400, "ValidationError", "the request body does not match the schema")           \
    XX(UNAUTHORIZED, 401, "Unauthorized", "credentials are missing or wrong")                      \
    XX(FORBIDDEN, 403, "Forbidden", "this operation is not allowed")                               \
    XX(READONLY, 403, "Forbidden", "the flow is read-only")                                        \
    XX(NOTFOUND, 404, "NotFound", "the requested resource does not exist")                         \
    XX(NOROUTE, 404, "NotFound", "no such path in this API")                                       \
    XX(METHOD, 405, "MethodNotAllowed", "method not allowed on this path")                         \
    XX(TIMEOUT, 408, "RequestTimeout", "the request did not arrive in time")                       \
    XX(CONFLICT, 409, "Conflict", "the resource changed concurrently")                             \
    XX(TOOBIG, 413, "PayloadTooLarge", "the request body is too large")                            \
    XX(URITOOLONG, 414, "URITooLong", "the request URI is too long")                               \
    XX(RANGE, 416, "RangeNotSatisfiable", "the requested range is outside the object")             \
    XX(INTERNAL, 500, "InternalError", "internal server error")                                    \
    XX(STORE, 500, "StoreError", "the metadata store failed")                                      \
    XX(IO, 500, "IOError", "an input/output operation failed")                                     \
    XX(UNAVAILABLE, 503, "ServiceUnavailable", "the service is temporarily unavailable")           \
    XX(NOSPACE, 507, "InsufficientStorage",                                                        \
       "storage cannot take writes now (full or failing); try again later")                        \
    XX(TOOMANY, 429, "TooManyRequests", "too many failed authentications; try again later")

enum tams_err {
    TAMS_OK = 0,
#define TAMS__ERR_ENUM(name, status, type, summary) TAMS_ERR_##name,
    TAMS__ERR_FIRST = -1000,
    TAMS_ERR_MAP(TAMS__ERR_ENUM)
#undef TAMS__ERR_ENUM
        TAMS__ERR_END
};

/* Unknown codes map to INTERNAL. */
int tams_err_http_status(int err);
const char *tams_err_type(int err);
const char *tams_strerror(int err);
/* The symbolic name, e.g. "NOTFOUND", for logs. */
const char *tams_err_name(int err);

#endif
