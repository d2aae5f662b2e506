// The image's HEALTHCHECK: GET /healthz on this container's metrics port
// (KD_HEALTHCHECK_PORT: teacher 9464, trainer 9465, evaluator 9466). Exit 0 when it answers 200.
const port = Number(process.env.KD_HEALTHCHECK_PORT || 9464);
try {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2500) });
  process.exit(res.status === 200 ? 0 : 1);
} catch {
  process.exit(1);
}
