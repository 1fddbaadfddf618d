/** The generator side of the IPC protocol used by `Generator` in ./procs.ts. */
type Handler = (args: any) => Promise<unknown> | unknown;

export function serve(handlers: Record<string, Handler>): void {
  if (!process.send) throw new Error("a load generator must be forked by bench/run.ts");
  const send = process.send.bind(process);
  process.on("message", (msg: { id: number; cmd: string; args: unknown }) => {
    const handler = handlers[msg.cmd];
    if (!handler) {
      send({ id: msg.id, ok: false, error: `unknown command ${msg.cmd}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(msg.args))
      .then(
        (result) => send({ id: msg.id, ok: true, result }),
        (err: unknown) => send({ id: msg.id, ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) }),
      );
  });
  // The orchestrator is gone (crash, SIGKILL): never linger with open sockets.
  process.on("disconnect", () => process.exit(0));
}
