// {{name}}: events POSTed as JSON to your own API (a destination function).
//
// Use it from a destination: {"name": "{{name}}", "type": "function", "function": "{{name}}"}.
// Each event is sent as it is (Segment's JSON) to settings.url with
// "Authorization: Bearer <settings.apiToken>". When the destination sends batches and
// settings.batchUrl is set, a batch goes in one request, {"batch": [events]}, and the API answers
// {"results": [{"status": 200}, {"status": 400, "error": "…"}]} in the same order, so only the
// events that failed are retried.
//
// Answers mapped to Segment's error classes: 2xx delivered; 429 and 5xx RetryError (tried again
// with backoff); 401 and 403 ValidationError (the token: fix it, then re-send the dead letters
// with `cdp deliveries retry`); other 4xx ValidationError (that event never will be accepted); a
// network failure RetryError.

async function post(url, payload, settings) {
  try {
    return await fetch(url, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${settings.apiToken}`,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify(payload),
    })
  } catch (error) {
    throw new RetryError(`the API could not be reached: ${error.message}`)
  }
}

async function check(response) {
  if (response.ok) return
  if (response.status === 429 || response.status >= 500) throw new RetryError(`the API answered ${response.status}`)
  const text = await response.text()
  if (response.status === 401 || response.status === 403) throw new ValidationError(`the API refused the token (${response.status}): check settings.apiToken`)
  throw new ValidationError(`the API refused the event: ${response.status} ${text}`)
}

async function send(event, settings) {
  if (!settings.url) throw new ValidationError('settings.url is not set')
  await check(await post(settings.url, event, settings))
}

async function onTrack(event, settings) {
  await send(event, settings)
}

async function onIdentify(event, settings) {
  await send(event, settings)
}

async function onPage(event, settings) {
  await send(event, settings)
}

async function onScreen(event, settings) {
  await send(event, settings)
}

async function onGroup(event, settings) {
  await send(event, settings)
}

async function onAlias(event, settings) {
  await send(event, settings)
}

/**
 * @param {SegmentEvent[]} events
 * @param {FunctionSettings} settings
 */
async function onBatch(events, settings) {
  if (!settings.batchUrl) {
    // No batch endpoint: one request per event, each with its own status.
    const statuses = []
    for (const event of events) {
      try {
        await send(event, settings)
        statuses.push({status: 200})
      } catch (error) {
        statuses.push({status: error instanceof RetryError ? 503 : 400, errormessage: error.message})
      }
    }
    return statuses
  }
  const response = await post(settings.batchUrl, {batch: events}, settings)
  await check(response)
  const answer = await response.json()
  const results = (answer && answer.results) || []
  return events.map((event, index) => {
    const result = results[index]
    if (!result) return {status: 500, errormessage: 'the API gave no result for this event'}
    return result.status >= 200 && result.status < 300 ? {status: 200} : {status: result.status, errormessage: result.error || `status ${result.status}`}
  })
}
