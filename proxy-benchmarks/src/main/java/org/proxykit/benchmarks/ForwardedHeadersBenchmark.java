package org.proxykit.benchmarks;

import java.io.IOException;
import java.util.List;
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
import org.openjdk.jmh.annotations.Warmup;
import org.proxykit.api.ProxyRequest;
import org.proxykit.api.ProxyResponse;
import org.proxykit.middleware.ProxyMiddleware;

/** The middleware restoring a request from a trusted proxy: the forwarded-header parsers and the walk. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ForwardedHeadersBenchmark {
  private static final ProxyResponse OK = ProxyResponse.builder().build();
  private ProxyMiddleware middleware;
  private ProxyRequest wsgiproxy;
  private ProxyRequest rfc7239;

  @Setup
  public void setUp() {
    middleware = ProxyMiddleware.builder(request -> OK).trustedIps(List.of("10.0.0.0/8", "127.0.0.1")).build();
    wsgiproxy = ProxyRequest.builder().serverName("backend").header("Host", "backend:9000")
        .header("X-Forwarded-Server", "front.example").header("X-Forwarded-Scheme", "https")
        .header("X-Forwarded-For", "203.0.113.9, 10.0.0.7, 10.0.0.8").header("X-Forwarded-Script-Name", "/app")
        .header("X-Traversal-Path", "/base").header("X-WSGIProxy-Version", "0.1")
        .pathInfo("/base/x").remoteAddr("127.0.0.1").build();
    rfc7239 = ProxyRequest.builder().serverName("backend").header("Host", "backend")
        .header("Forwarded", "for=203.0.113.9;proto=https, for=\"[2001:db8::1]:4711\";host=\"shop.example\";proto=https")
        .pathInfo("/x").remoteAddr("10.0.0.1").build();
  }

  @Benchmark
  public ProxyResponse wsgiproxyHeaders() throws IOException {
    return middleware.handle(wsgiproxy);
  }

  @Benchmark
  public ProxyResponse forwardedHeader() throws IOException {
    return middleware.handle(rfc7239);
  }
}
