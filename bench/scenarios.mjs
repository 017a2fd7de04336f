// The scenarios: what each measures, its metrics, and its sizes (full run and --quick).
export const scenarios = [
  {
    name: "chat-c1",
    title: "Non-streaming, concurrency 1",
    about:
      "sequential `chat` calls (an 8-delta answer, ~0.5 KB JSON) for a 0.5 s window after a warm-up of 1,000 calls (at most 1 s): latency percentiles, client CPU per request",
    metrics: [
      { key: "p50Ms", label: "p50 (ms)", better: "lower" },
      { key: "p99Ms", label: "p99 (ms)", better: "lower" },
      { key: "cpuUsPerRequest", label: "CPU/req (µs)", better: "lower" }
    ],
    primary: "p50Ms"
  },
  {
    name: "chat-c64",
    title: "Non-streaming, concurrency 64",
    about: "64 concurrent `chat` loops for a 0.5 s window after the same warm-up: throughput, client CPU per request",
    metrics: [
      { key: "reqPerSec", label: "req/s", better: "higher" },
      { key: "cpuUsPerRequest", label: "CPU/req (µs)", better: "lower" }
    ],
    primary: "reqPerSec"
  },
  {
    name: "stream-c1",
    title: "Streaming 1,000 chunks, concurrency 1",
    about:
      "sequential 1,000-delta streams (burst: the server writes each whole stream at once) for a 0.4 s window (at least 3) after six 200-delta warm-up streams: chunks/s, time to first chunk (TTFC), client CPU per chunk",
    metrics: [
      { key: "chunksPerSec", label: "chunks/s", better: "higher" },
      { key: "ttfcMs", label: "TTFC p50 (ms)", better: "lower" },
      { key: "cpuUsPerChunk", label: "CPU/chunk (µs)", better: "lower" }
    ],
    primary: "cpuUsPerChunk"
  },
  {
    name: "stream-c16",
    title: "Streaming 1,000 chunks, concurrency 16",
    about:
      "16 concurrent loops of 1,000-delta streams (burst) for a 0.4 s window (at least one stream each) after 32 warm-up streams: chunks/s, TTFC, client CPU per chunk",
    metrics: [
      { key: "chunksPerSec", label: "chunks/s", better: "higher" },
      { key: "ttfcMs", label: "TTFC p50 (ms)", better: "lower" },
      { key: "cpuUsPerChunk", label: "CPU/chunk (µs)", better: "lower" }
    ],
    primary: "ttfcMs"
  },
  {
    name: "stream-10k",
    title: "One 10,000-chunk stream (burst)",
    about:
      "one 10,000-delta stream written by the server in one write (the client reads ~64 KB at a time), after six 500-delta warm-up streams: client CPU per chunk",
    metrics: [
      { key: "chunksPerSec", label: "chunks/s", better: "higher" },
      { key: "cpuUsPerChunk", label: "CPU/chunk (µs)", better: "lower" }
    ],
    primary: "cpuUsPerChunk"
  },
  {
    name: "trickle-c16",
    title: "Trickled streams, concurrency 16",
    about:
      "16 concurrent 500-delta streams, the server writing one SSE event per socket write, 1 ms apart on each stream (`bench-500-trickle1`): about one event per network read, the shape of real token streaming (real APIs space events 10–50 ms apart). Client CPU per chunk",
    metrics: [
      { key: "chunksPerSec", label: "chunks/s", better: "higher" },
      { key: "cpuUsPerChunk", label: "CPU/chunk (µs)", better: "lower" }
    ],
    primary: "cpuUsPerChunk"
  },
  {
    name: "rss-100",
    title: "100 concurrent open streams",
    about:
      "100 streams held open by the server after their first delta (then released): peak RSS of the client process (VmHWM: the whole process, imports included) and the RSS added by the open streams",
    metrics: [
      { key: "hwmMb", label: "peak RSS (MB)", better: "lower" },
      { key: "deltaMb", label: "RSS added by the open streams (MB)", better: "lower", ratio: false }
    ],
    primary: "hwmMb"
  },
  {
    name: "rss-500",
    title: "500 concurrent open streams",
    about: "as above with 500 streams",
    metrics: [
      { key: "hwmMb", label: "peak RSS (MB)", better: "lower" },
      { key: "deltaMb", label: "RSS added by the open streams (MB)", better: "lower", ratio: false }
    ],
    primary: "hwmMb"
  }
]

export const scenarioNames = scenarios.map((s) => s.name)

/**
 * Sizes and windows of the scenarios. `quick` is a smoke test — every adapter and scenario,
 * small sizes (1,000-chunk "10k" stream, 20 and 50 open streams for rss-100/rss-500): its
 * figures are not comparable with a full run.
 */
export const settings = (quick) =>
  quick
    ? {
      chatChunks: 8,
      "chat-c1": { warmupMs: 50, warmupRequests: 100, warmupMaxMs: 200, measureMs: 100, minRequests: 20 },
      "chat-c64": { warmupMs: 50, warmupRequests: 256, warmupMaxMs: 200, measureMs: 100, minRequests: 128 },
      "stream-c1": { chunks: 100, warmupChunks: 100, warmupStreams: 1, measureMs: 50, minStreamsPerWorker: 2 },
      "stream-c16": { chunks: 100, warmupChunks: 20, measureMs: 0 },
      "stream-10k": { chunks: 1000, warmupChunks: 100, warmupStreams: 1, measureMs: 0, maxStreams: 1 },
      "trickle-c16": { chunks: 50, mode: "trickle1", warmupChunks: 10, measureMs: 0 },
      rss: { chunks: 20, holdMs: 50, counts: { "rss-100": 20, "rss-500": 50 } }
    }
    : {
      chatChunks: 8,
      "chat-c1": { warmupMs: 300, warmupRequests: 1000, warmupMaxMs: 1000, measureMs: 500, minRequests: 100 },
      "chat-c64": { warmupMs: 300, warmupRequests: 1000, warmupMaxMs: 1000, measureMs: 500, minRequests: 640 },
      "stream-c1": { chunks: 1000, warmupChunks: 200, warmupStreams: 6, measureMs: 400, minStreamsPerWorker: 3 },
      "stream-c16": { chunks: 1000, warmupChunks: 200, warmupStreams: 2, measureMs: 400 },
      "stream-10k": { chunks: 10_000, warmupChunks: 500, warmupStreams: 6, measureMs: 0, maxStreams: 1 },
      "trickle-c16": { chunks: 500, mode: "trickle1", warmupChunks: 50, warmupStreams: 2, measureMs: 0 },
      rss: { chunks: 20, holdMs: 300, counts: { "rss-100": 100, "rss-500": 500 } }
    }
