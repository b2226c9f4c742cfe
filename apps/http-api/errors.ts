import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ZodError } from "zod";
import { AuthError } from "../../lib/auth/errors.ts";
import { PasswordBusyError } from "../../lib/auth/password.ts";
import { BusUnavailableError } from "../../lib/bus/types.ts";
import { ChatError, type ChatErrorKind } from "../../lib/chat/errors.ts";
import type { Logger } from "../../lib/log/index.ts";
import { errorFields } from "../../lib/log/index.ts";
import { ConflictError } from "../../lib/store/types.ts";

/** The one error shape every route answers with. */
export interface ErrorBody {
  error: { code: string; message: string; fields?: Record<string, string> };
}

/** Thrown by handlers; rendered by `renderError` with its status and, for 429 and 503, Retry-After. */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly extra: {
      fields?: Record<string, string>;
      retryAfterSec?: number;
      headers?: Record<string, string>;
    } = {},
  ) {
    super(message);
  }
}

/** An access-token failure: 401 with a code a client can act on (token_expired → refresh and retry). */
export function unauthorized(err: AuthError, prefix = "token"): ApiError {
  return new ApiError(401, `${prefix}_${err.reason}`, err.message, {
    headers: {
      "WWW-Authenticate": `Bearer error="${err.reason === "missing" ? "invalid_request" : "invalid_token"}"`,
    },
  });
}

/** Per-field reasons from a zod failure: "a.b" → first message for that path. */
export function fieldReasons(error: ZodError, target: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) {
    const key = issue.path.length ? issue.path.map(String).join(".") : target;
    fields[key] ??= issue.message;
  }
  return fields;
}

export function validationError(error: ZodError, target: string): ApiError {
  return new ApiError(400, "validation_failed", `the request ${target} is not valid`, {
    fields: fieldReasons(error, target),
  });
}

export function errorResponse(c: Context, err: ApiError): Response {
  const body: ErrorBody = { error: { code: err.code, message: err.message } };
  if (err.extra.fields) body.error.fields = err.extra.fields;
  for (const [name, value] of Object.entries(err.extra.headers ?? {})) c.header(name, value);
  if (err.extra.retryAfterSec !== undefined) c.header("Retry-After", String(err.extra.retryAfterSec));
  return c.json(body, err.status);
}

/** How each kind of domain refusal reads over HTTP. */
const chatStatus: Record<ChatErrorKind, ContentfulStatusCode> = {
  invalid: 400,
  gone: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unavailable: 503,
};

const httpExceptionCodes: Record<number, string> = {
  413: "payload_too_large",
  415: "unsupported_media_type",
};

/** Maps anything thrown to the JSON error shape; unknown errors become a 500 without details. */
export function renderError(err: unknown, c: Context, log: Logger): Response {
  if (err instanceof ApiError) return errorResponse(c, err);
  if (err instanceof ChatError) {
    const fields = err.fields ? { fields: err.fields } : {};
    return errorResponse(c, new ApiError(chatStatus[err.kind], err.code, err.message, fields));
  }
  if (err instanceof AuthError) return errorResponse(c, unauthorized(err));
  if (err instanceof ConflictError) return errorResponse(c, new ApiError(409, err.code, err.message));
  if (err instanceof PasswordBusyError) {
    return errorResponse(
      c,
      new ApiError(503, "busy", "too many logins and sign-ups at once; retry shortly", {
        retryAfterSec: err.retryAfterSec,
      }),
    );
  }
  if (err instanceof BusUnavailableError) {
    return errorResponse(
      c,
      new ApiError(503, "bus_unavailable", "the message bus is unavailable; retry shortly"),
    );
  }
  if (err instanceof HTTPException && err.status < 500) {
    // Hono's own refusals (malformed JSON, body too large) keep their status but get our shape.
    const code = httpExceptionCodes[err.status] ?? "bad_request";
    return errorResponse(c, new ApiError(err.status as ContentfulStatusCode, code, err.message || code));
  }
  log("error", "unhandled error in http-api", {
    method: c.req.method,
    path: c.req.path,
    ...errorFields(err),
  });
  return errorResponse(c, new ApiError(500, "internal", "internal error"));
}
