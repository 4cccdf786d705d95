// {{name}}: an insert function (cdp.json "functions", kind "insert").
//
// It sees each event on its way and returns it, changed or not. Attach it with
// "insert": "{{name}}" on a source (it runs before the tracking plan is checked and the event is
// stored) or on a destination (it runs before that destination gets the event).
//
// - Return the event (changed or as it came) to let it go on.
// - Return nothing, or throw new DropEvent('why'), to drop it. A type with no handler below is dropped too.
// - Throw new ValidationError('why') (or InvalidEventPayload) to refuse it; throw RetryError to try again later.
// - settings are the "settings" of this function in cdp.json. console.log lines show in `cdp tail`
//   and `cdp fn logs`. fetch reaches only the hosts in "allowedHosts".
//
// Test it with `cdp fn test {{name}}` (the cases are in functions/{{name}}.test.json), or once
// with `cdp fn run functions/{{name}}.js --event event.json`.

/**
 * @param {SegmentTrackEvent} event
 * @param {FunctionSettings} settings
 */
async function onTrack(event, settings) {
  // An example of a drop: events a test suite sent, marked in their properties.
  if (event.properties && event.properties.test === true) throw new DropEvent('a test event')

  // An example: event names in Title Case, as a tracking plan might ask ("order completed" → "Order Completed").
  event.event = event.event.replace(/\b\w/g, (letter) => letter.toUpperCase())
  return event
}

/**
 * @param {SegmentIdentifyEvent} event
 * @param {FunctionSettings} settings
 */
async function onIdentify(event, settings) {
  return event
}

async function onPage(event, settings) {
  return event
}

async function onScreen(event, settings) {
  return event
}

async function onGroup(event, settings) {
  return event
}

async function onAlias(event, settings) {
  return event
}

// No onDelete: delete requests are dropped here. Add one to pass them on.
