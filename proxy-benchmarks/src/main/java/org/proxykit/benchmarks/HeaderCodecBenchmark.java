package org.proxykit.benchmarks;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.proxykit.api.HttpHeaders;
import org.proxykit.api.ProxyStatusException;
import org.proxykit.api.spi.Settings;
import org.proxykit.protocol.AttributeHeaders;
import org.proxykit.protocol.HeaderCodecs;

/** Encoding and decoding one attribute header of each kind, with a short and a long value. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class HeaderCodecBenchmark {
  @Param({"Str", "Unicode", "Json", "Kryo"})
  public String kind;

  @Param({"short", "long"})
  public String size;

  private HeaderCodecs codecs;
  private Map<String, Object> attributes;
  private Map<String, List<String>> keys;
  private HttpHeaders encoded;

  @Setup
  public void setUp() {
    codecs = HeaderCodecs.load(Map.of("Kryo", Settings.of("Kryo", Map.of("classes", List.of("java.util.ArrayList")))),
        HeaderCodecBenchmark.class.getClassLoader());
    String text = size.equals("short") ? "alice" : "a long value with spaces, commas and \u00e9 ".repeat(40);
    Object value = kind.equals("Kryo") ? new ArrayList<>(List.of(text, 42)) : kind.equals("Json") ? List.of(text, 42) : text;
    attributes = Map.of("REMOTE_USER", value);
    keys = Map.of(kind, List.of("REMOTE_USER"));
    HttpHeaders.Builder headers = HttpHeaders.builder();
    AttributeHeaders.encode(attributes, keys, codecs, headers);
    encoded = headers.build();
  }

  @Benchmark
  public HttpHeaders encode() {
    HttpHeaders.Builder headers = HttpHeaders.builder();
    AttributeHeaders.encode(attributes, keys, codecs, headers);
    return headers.build();
  }

  @Benchmark
  public Map<String, Object> decode() throws ProxyStatusException {
    return AttributeHeaders.decode(encoded, codecs, true);
  }
}
