package dev.secondsite.bench.jmh;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs the JMH kernels with short, fixed settings (1 fork, 3 warmups x 1 s, 5 iterations x 1 s; the whole
 * suite takes about 2-3 minutes) and prints a table in MB/s (10^6 bytes per second), converting each
 * benchmark's ops/s with the bytes one operation processes.
 *
 * <p>Arguments: optional regular expressions selecting benchmarks (default: all), and
 * {@code --result FILE} for JMH's JSON result file, {@code --param NAME=VALUE} (repeatable) to run only those
 * values of a {@code @Param} (e.g. {@code --param store=file --param writes=partial}), {@code --iterations N} and
 * {@code --seconds S} for longer measurements (kernels whose operation takes a large part of a second).
 */
public final class JmhMain {
    private JmhMain() {
    }

    public static void main(String[] args) throws Exception {
        List<String> includes = new ArrayList<>();
        String resultFile = null;
        Map<String, List<String>> params = new LinkedHashMap<>();
        int iterations = 5;
        int seconds = 1;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--result") && i + 1 < args.length) {
                resultFile = args[++i];
            } else if (args[i].equals("--param") && i + 1 < args.length && args[i + 1].contains("=")) {
                String[] param = args[++i].split("=", 2);
                params.computeIfAbsent(param[0], ignored -> new ArrayList<>()).add(param[1]);
            } else if (args[i].equals("--iterations") && i + 1 < args.length) {
                iterations = Integer.parseInt(args[++i]);
            } else if (args[i].equals("--seconds") && i + 1 < args.length) {
                seconds = Integer.parseInt(args[++i]);
            } else if (args[i].equals("-h") || args[i].equals("--help")) {
                System.out.println("usage: bench/run jmh [--result FILE] [--param NAME=VALUE]... [--iterations N] "
                        + "[--seconds S] [REGEX...]"
                        + "   (benchmarks: SegmentCodecBench, ChunkHashBench, ApplyBench, RestoreBench, PointBench, ...)");
                return;
            } else {
                includes.add(args[i]);
            }
        }
        if (includes.isEmpty()) {
            includes.add("dev\\.secondsite\\.bench\\.jmh\\..*");
        }
        ChainedOptionsBuilder options = new OptionsBuilder()
                .forks(1)
                .warmupIterations(3).warmupTime(TimeValue.seconds(1))
                .measurementIterations(iterations).measurementTime(TimeValue.seconds(seconds))
                .timeUnit(TimeUnit.SECONDS)
                .mode(org.openjdk.jmh.annotations.Mode.Throughput)
                .jvmArgsAppend("--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-Xmx2g",
                        "-Dbench.tmp=" + System.getProperty("bench.tmp", System.getProperty("java.io.tmpdir")))
                .shouldFailOnError(true);
        for (String include : includes) {
            options.include(include);
        }
        params.forEach((name, values) -> options.param(name, values.toArray(String[]::new)));
        if (resultFile != null) {
            options.result(resultFile).resultFormat(ResultFormatType.JSON);
        }
        Collection<RunResult> results = new Runner(options.build()).run();
        print(results, iterations, seconds);
    }

    /** Bytes one operation of a benchmark processes. */
    static long bytesPerOp(String benchmark, BenchmarkParams params) {
        String method = benchmark.substring(benchmark.lastIndexOf('.') + 1);
        String type = benchmark.substring(0, benchmark.lastIndexOf('.'));
        type = type.substring(type.lastIndexOf('.') + 1);
        return switch (type) {
            case "SegmentCodecBench" -> SegmentCodecBench.BYTES;
            case "ApplyBench" -> ApplyBench.bytes(Integer.parseInt(params.getParam("segmentMib")));
            case "RestoreBench" -> RestoreBench.BYTES;
            case "ChunkHashBench" -> method.equals("scanBlock") ? ChunkHashBench.BLOCK_BYTES : ChunkHashBench.CHUNK_BYTES;
            case "CacheReadBench" -> CacheReadBench.BYTES;
            case "ChunkIndexBench" -> 0; // lookups: ops/s is the figure
            case "PointBench" -> PointBench.bytes(Integer.parseInt(params.getParam("changedChunks")));
            default -> throw new IllegalArgumentException("unknown benchmark " + benchmark);
        };
    }

    static void print(Collection<RunResult> results, int iterations, int seconds) {
        System.out.println();
        System.out.printf(Locale.ROOT, "SecondSite kernels (JMH 1 fork, 3x1 s warmup, %dx%d s measurement; MB = 10^6 bytes)%n",
                iterations, seconds);
        String format = "%-34s %-22s %12s %10s %12s%n";
        System.out.printf(format, "benchmark", "params", "MB/s", "+/- MB/s", "ops/s");
        System.out.printf(format, "-".repeat(34), "-".repeat(22), "-".repeat(12), "-".repeat(10), "-".repeat(12));
        for (RunResult result : results) {
            String benchmark = result.getParams().getBenchmark();
            StringBuilder params = new StringBuilder();
            for (String key : result.getParams().getParamsKeys()) {
                if (!params.isEmpty()) {
                    params.append(',');
                }
                params.append(result.getParams().getParam(key));
            }
            double ops = result.getPrimaryResult().getScore();
            double error = result.getPrimaryResult().getScoreError();
            double bytes = bytesPerOp(benchmark, result.getParams());
            String shortName = benchmark.substring(benchmark.lastIndexOf('.', benchmark.lastIndexOf('.') - 1) + 1);
            System.out.printf(Locale.ROOT, format, shortName, params.isEmpty() ? "-" : params,
                    bytes == 0 ? "-" : String.format(Locale.ROOT, "%.1f", ops * bytes / 1e6),
                    bytes == 0 || Double.isNaN(error) ? "-" : String.format(Locale.ROOT, "%.1f", error * bytes / 1e6),
                    String.format(Locale.ROOT, "%.2f", ops));
        }
    }
}
