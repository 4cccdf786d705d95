// {{name}}: a Slack message for the events you choose (a destination function).
//
// Create an incoming webhook in Slack (api.slack.com/messaging/webhooks), keep its URL in the
// environment variable cdp.json names for settings.webhookUrl, and use the function from a
// destination: {"name": "{{name}}", "type": "function", "function": "{{name}}"}. Give that
// destination a filter of track events: other types are EventNotSupported here.
//
// Settings (cdp.json): webhookUrl (secret: anyone with it can post to the channel); events, the
// track event names that post a message (empty: all of them).

function describe(event) {
  const who = event.userId || event.anonymousId || 'someone'
  const properties = event.properties || {}
  const details = Object.keys(properties)
    .slice(0, 8)
    .map((key) => `${key}: ${typeof properties[key] === 'object' ? JSON.stringify(properties[key]) : properties[key]}`)
    .join(', ')
  return `*${event.event}* by ${who}${details ? ` (${details})` : ''}`
}

/**
 * @param {SegmentTrackEvent} event
 * @param {FunctionSettings} settings
 */
async function onTrack(event, settings) {
  const chosen = Array.isArray(settings.events) ? settings.events : []
  // Not one of the chosen events: nothing to post, and nothing to retry.
  if (chosen.length > 0 && !chosen.includes(event.event)) return

  if (!settings.webhookUrl) throw new ValidationError('settings.webhookUrl is not set')
  let response
  try {
    response = await fetch(settings.webhookUrl, {
      method: 'POST',
      headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({text: describe(event)}),
    })
  } catch (error) {
    throw new RetryError(`Slack could not be reached: ${error.message}`)
  }
  // Slack answers 429 when the channel gets too much, 5xx when it is down: both pass.
  if (response.status === 429 || response.status >= 500) {
    throw new RetryError(`Slack answered ${response.status}`)
  }
  // 400 invalid_payload, 403 action_prohibited, 404 no_service (the webhook was removed): no retry helps.
  if (!response.ok) {
    throw new ValidationError(`Slack refused the message: ${response.status} ${await response.text()}`)
  }
}
