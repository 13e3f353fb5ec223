import type { MetricsSink } from '../app/health-ports.js';

/**
 * CloudWatch embedded metric format: one JSON line on stdout, which CloudWatch Logs turns into
 * metrics (no API call, no permission). Written to the stream itself, not through `console.log`,
 * whose Lambda prefix (time, request id, level) would stop CloudWatch reading the line as EMF.
 */
export class EmfMetrics implements MetricsSink {
  constructor(
    private readonly namespace: string,
    private readonly write: (line: string) => void = (line) => process.stdout.write(line),
  ) {}

  emit(
    metrics: ReadonlyArray<{ name: string; unit: 'Milliseconds' | 'Count'; value: number }>,
    dimensions: Readonly<Record<string, string>>,
    at: Date,
  ): void {
    const document = {
      _aws: {
        Timestamp: at.getTime(),
        CloudWatchMetrics: [
          {
            Namespace: this.namespace,
            Dimensions: [Object.keys(dimensions)],
            Metrics: metrics.map(({ name, unit }) => ({ Name: name, Unit: unit })),
          },
        ],
      },
      ...dimensions,
      ...Object.fromEntries(metrics.map(({ name, value }) => [name, value])),
    };
    this.write(`${JSON.stringify(document)}\n`);
  }
}
