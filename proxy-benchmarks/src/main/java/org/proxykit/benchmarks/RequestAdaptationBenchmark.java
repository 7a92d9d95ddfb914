package org.proxykit.benchmarks;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.proxykit.api.HttpHeaders;
import org.proxykit.api.ProxyRequest;
import org.proxykit.api.ProxyResponse;
import org.proxykit.api.spi.Transport;
import org.proxykit.exact.ExactProxy;

/**
 * The per-request work between the server's adapted request and the wire: building a
 * ProxyRequest with browser-like headers, and ExactProxy's own part (hop-by-hop removal both
 * ways) with a transport that answers at once.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RequestAdaptationBenchmark {
  private static final ProxyResponse OK = ProxyResponse.builder()
      .headers(HttpHeaders.of("Content-Type", "text/html", "Content-Length", "1024", "Connection", "keep-alive",
          "Cache-Control", "max-age=60", "Date", "Tue, 24 Nov 2026 00:00:00 GMT")).build();
  private ExactProxy exact;
  private HttpHeaders browserHeaders;
  private ProxyRequest request;

  @Setup
  public void setUp() {
    exact = ExactProxy.builder().transport(new Transport() {
      @Override
      public ProxyResponse send(ProxyRequest outbound) {
        return OK;
      }

      @Override
      public void close() {}
    }).build();
    browserHeaders = HttpHeaders.of("Host", "front.example", "User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
        "Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "Accept-Language", "en-US,en;q=0.5",
        "Accept-Encoding", "gzip, deflate, br", "Connection", "keep-alive", "Cookie", "session=abc123; theme=dark",
        "Upgrade-Insecure-Requests", "1");
    request = adapt();
  }

  @TearDown
  public void tearDown() throws IOException {
    exact.close();
  }

  @Benchmark
  public ProxyRequest adapt() {
    return ProxyRequest.builder().method("GET").scheme("http").serverName("front.example").serverPort(80)
        .headers(browserHeaders).scriptName("/app").pathInfo("/products/42").queryString("ref=home")
        .remoteAddr("203.0.113.9").remotePort(51234).build();
  }

  @Benchmark
  public ProxyResponse exactProxyOverhead() throws IOException {
    return exact.handle(request);
  }
}
