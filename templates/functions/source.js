// {{name}}: a source function (cdp.json "functions", kind "source").
//
// While `cdp dev` runs, each request to POST /v1/functions/{{name}} calls onRequest. It turns
// the request (a webhook from another tool, say) into Segment calls: Segment.track(),
// Segment.identify(), Segment.page(), Segment.screen(), Segment.group(), Segment.alias(). Each
// message then goes the way of any event of its source: checked against the tracking plan,
// stored, delivered. Every message needs a userId or an anonymousId, and a track an event name.
//
// - await request.json() parses the body, await request.text() gives it as it came, request.headers.get(name)
//   reads a header, request.url is the URL with its query string.
// - Throw new ValidationError('why') to answer the caller with an error.
// - settings are the "settings" of this function in cdp.json.
//
// Test it with `cdp fn test {{name}}` (the cases are in functions/{{name}}.test.json), or once
// with `cdp fn run functions/{{name}}.js --event body.json --header "Content-Type: application/json"`.

/**
 * @param {SegmentRequest} request
 * @param {FunctionSettings} settings
 */
async function onRequest(request, settings) {
  const body = await request.json()

  // An example payload: {"type": "signup", "user": {"id": "u_1", "email": "…", "name": "…"}, "plan": "pro"}
  if (!body.user || !body.user.id) {
    throw new ValidationError('the payload has no user.id')
  }

  Segment.identify({
    userId: String(body.user.id),
    traits: {
      email: body.user.email,
      name: body.user.name,
    },
  })

  Segment.track({
    event: body.type === 'signup' ? 'Signed Up' : 'Webhook Received',
    userId: String(body.user.id),
    properties: {
      plan: body.plan,
    },
  })
}
