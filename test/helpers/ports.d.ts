/** A TCP port on 127.0.0.1 that nothing listens on: the system hands one out and it is released at once. */
export function unusedPort(): Promise<number>
