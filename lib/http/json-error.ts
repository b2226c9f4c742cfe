/** The JSON error shape every HTTP answer of ChatTalk uses: `{error: {code, message}}`. */
export function jsonError(status: number, code: string, message: string): Response {
  return Response.json({ error: { code, message } }, { status });
}
