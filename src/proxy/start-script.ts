/**
 * The proxy sidecars' start script: write the rendered config from an environment variable, run the
 * server in the foreground, and turn every stop signal into the server's graceful stop. The shell
 * stays PID 1 so it receives the signal: ECS on Fargate sends the image's STOPSIGNAL (nginx SIGQUIT,
 * httpd SIGWINCH; honoured since December 2025), older platforms and EC2 agents send SIGTERM, on which
 * nginx and Apache themselves drop in-flight requests.
 */
export function supervisedStartScript(p: {
  configEnvVar: string;
  configPath: string;
  /** The server command, run in the background. */
  command: string;
  /** The server's own graceful-stop signal, without SIG. */
  gracefulSignal: string;
  /** Signals turned into it, without SIG. */
  stopSignals: string[];
}): string {
  return [
    `printf '%s' "$${p.configEnvVar}" > ${p.configPath}`,
    `${p.command} &`,
    'pid=$!',
    `trap 'kill -${p.gracefulSignal} $pid 2>/dev/null' ${p.stopSignals.join(' ')}`,
    'status=0',
    // wait returns early when a trapped signal arrives: keep waiting until the server is gone.
    'while kill -0 $pid 2>/dev/null; do wait $pid; status=$?; done',
    'exit $status',
  ].join('\n');
}
