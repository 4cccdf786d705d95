
// Generated without --validate: calls are checked by the compiler only, at no run-time cost.
function check(_options: TrackerOptions, _event: string, _data: object): void {}
