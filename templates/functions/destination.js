// {{name}}: a destination function (cdp.json "functions", kind "destination").
//
// It sends each event to an API. Use it from a destination of type "function" in cdp.json:
//   {"name": "{{name}}", "type": "function", "function": "{{name}}"}
// That destination's events come here with the same lanes, retries and dead letters as any other.
//
// - Return (anything, or nothing) when the event is delivered.
// - Throw new RetryError('why') when trying again later may work (5xx, 429, a time-out): it is
//   retried with backoff. Throw new ValidationError('why') (or InvalidEventPayload) when it never
//   will: it is dead-lettered at once. A type with no handler below is EventNotSupported.
// - fetch reaches only the hosts listed in "allowedHosts" in cdp.json.
// - settings are the "settings" of this function in cdp.json; secrets are best written there as
//   {"env": "NAME"}, read from the environment.
//
// Test it with `cdp fn test {{name}}`: its cases in functions/{{name}}.test.json carry canned
// answers for fetch, so no test reaches the network.

async function send(payload, settings) {
  let response
  try {
    response = await fetch(settings.url, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${settings.apiKey}`,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify(payload),
    })
  } catch (error) {
    // The network failed: worth another try.
    throw new RetryError(error.message)
  }
  if (response.status >= 500 || response.status === 429) {
    throw new RetryError(`the API answered ${response.status}`)
  }
  if (!response.ok) {
    throw new ValidationError(`the API refused the event: ${response.status} ${await response.text()}`)
  }
}

/**
 * @param {SegmentTrackEvent} event
 * @param {FunctionSettings} settings
 */
async function onTrack(event, settings) {
  if (!event.userId && !event.anonymousId) {
    throw new InvalidEventPayload('the event has neither a userId nor an anonymousId')
  }
  await send({kind: 'event', name: event.event, user: event.userId || event.anonymousId, properties: event.properties || {}, at: event.timestamp}, settings)
}

/**
 * @param {SegmentIdentifyEvent} event
 * @param {FunctionSettings} settings
 */
async function onIdentify(event, settings) {
  await send({kind: 'profile', user: event.userId || event.anonymousId, traits: event.traits || {}}, settings)
}

// No onPage, onScreen, onGroup, onAlias or onDelete: those events are refused as EventNotSupported.
