// Generated without --validate: calls are checked by the editor or tsc --checkJs only, at no run-time cost.
/**
 * @param {TrackerOptions} _options
 * @param {string} _event
 * @param {object} _data
 * @returns {void}
 */
function check(_options, _event, _data) {}
