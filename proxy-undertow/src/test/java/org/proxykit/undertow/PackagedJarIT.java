package org.proxykit.undertow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.proxykit.testing.LoopbackServer;

/** Runs the runnable jar that {@code mvn package} built, as a user would, and talks to it over HTTP. */
class PackagedJarIT {
  private static final Pattern LISTENING = Pattern.compile("proxykit listening on (http://127\\.0\\.0\\.1:\\d+)");
  private final List<Process> processes = new ArrayList<>();

  @AfterEach
  void killLeftovers() {
    processes.forEach(Process::destroyForcibly);
  }

  @Test
  void serveWithAConfigFileAnswersAndExitsZeroOnSigterm(@TempDir Path dir) throws Exception {
    Path config = Files.writeString(dir.resolve("proxykit.yaml"), "server: { listen: 127.0.0.1:0, shutdownGrace: 5s }\n"
        + "mounts: [ { path: /echo, handler: { type: echo } } ]\n");
    Process process = start("serve", "--config", config.toString());
    BlockingQueue<String> stdout = lines(process);
    String url = awaitMatch(stdout, LISTENING);

    HttpResponse<String> response = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(
        HttpRequest.newBuilder(URI.create(url + "/echo/from-a-child?x=1")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode());
    assertTrue(response.body().contains("\"pathInfo\" : \"/from-a-child\""), response.body());
    awaitMatch(stdout, Pattern.compile("\"GET /echo/from-a-child\\?x=1 HTTP/1\\.1\" 200 "));

    process.destroy();
    assertTrue(process.waitFor(20, TimeUnit.SECONDS), "did not stop on SIGTERM");
    assertEquals(0, process.exitValue());
  }

  @Test
  void aBadConfigExitsWithStatus2AndOneLine(@TempDir Path dir) throws Exception {
    Path config = Files.writeString(dir.resolve("bad.yaml"), "server: { listen: 127.0.0.1:0 }\nmounts: []\n");
    Process process = start("check", config.toString());
    assertTrue(process.waitFor(30, TimeUnit.SECONDS));
    assertEquals(2, process.exitValue());
    String stderr = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals("proxykit: " + config + ": mounts: expected a list of {path, handler}\n", stderr);
  }

  @Test
  void theDemoAnswersTheCurlCommandsItPrints() throws Exception {
    assumeTrue(new ProcessBuilder("curl", "--version").start().waitFor() == 0, "needs curl");
    Process process = start("demo", "--port", "0", "--forward-port", "0");
    BlockingQueue<String> stdout = lines(process);
    List<String> commands = new ArrayList<>();
    for (String line = poll(stdout); !line.startsWith("Ctrl-C"); line = poll(stdout)) {
      if (line.strip().startsWith("curl ")) {
        commands.add(line.strip());
      }
    }
    assertEquals(6, commands.size(), commands.toString());
    for (String command : commands) {
      Process curl = new ProcessBuilder("bash", "-c", command).redirectErrorStream(true).start();
      String output = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertEquals(0, curl.waitFor(), command + "\n" + output);
      assertTrue(output.contains("\"method\" : \"GET\""), command + "\n" + output);
    }
    process.destroy();
    assertTrue(process.waitFor(20, TimeUnit.SECONDS));
    assertEquals(0, process.exitValue());
  }

  private Process start(String... args) throws IOException {
    return start(List.of(), args);
  }

  private Process start(List<String> jvmOptions, String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    command.addAll(jvmOptions);
    command.addAll(List.of("-jar", jar().toString()));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).start();
    processes.add(process);
    return process;
  }

  @Test
  void twoGibibytesStreamBothWaysThroughAServerWith128MibOfHeap(@TempDir Path dir) throws Exception {
    long size = (2L << 30) + 1;
    try (LoopbackServer backend = new LoopbackServer()) {  // closed by try; its InterruptedException is fine here
      backend.handler((request, exchange) -> {
        if (request.method().equals("PUT")) {
          exchange.respond(200, "got " + request.bodyLength());
        } else {
          exchange.writeHead(200, "OK", "Content-Length", String.valueOf(size));
          byte[] chunk = new byte[64 * 1024];
          for (long left = size; left > 0; left -= chunk.length) {
            exchange.output().write(chunk, 0, (int) Math.min(chunk.length, left));
          }
          exchange.output().flush();
        }
      }).start();
      Path config = Files.writeString(dir.resolve("big.yaml"), "server: { listen: 127.0.0.1:0, accessLog: off }\n"
          + "mounts: [ { path: /, handler: { type: exact, upstream: '" + backend.url("") + "' } } ]\n");
      Process process = start(List.of("-Xmx128m"), "serve", "--config", config.toString());
      String url = awaitMatch(lines(process), LISTENING);
      try (org.proxykit.exact.ExactProxy http = org.proxykit.exact.ExactProxy.create()) {
        org.proxykit.api.ProxyRequest upload = org.proxykit.api.ProxyRequest.blank(url + "/up").toBuilder().method("PUT")
            .body(org.proxykit.api.Body.of(new java.io.InputStream() {
              private long left = size;

              @Override
              public int read() {
                return left-- > 0 ? 0 : -1;
              }

              @Override
              public int read(byte[] buffer, int offset, int length) {
                if (left <= 0) {
                  return -1;
                }
                int n = (int) Math.min(length, left);
                java.util.Arrays.fill(buffer, offset, offset + n, (byte) 0);
                left -= n;
                return n;
              }
            }, size)).build();
        try (org.proxykit.api.ProxyResponse response = http.handle(upload)) {
          assertEquals("got " + size, new String(response.body().open().readAllBytes(), StandardCharsets.UTF_8));
        }
        try (org.proxykit.api.ProxyResponse response = http.handle(org.proxykit.api.ProxyRequest.blank(url + "/down"))) {
          assertEquals(size, response.body().open().transferTo(java.io.OutputStream.nullOutputStream()));
        }
      }
      process.destroy();
      assertTrue(process.waitFor(20, TimeUnit.SECONDS));
      assertEquals(0, process.exitValue(), "the server must survive and stop cleanly");
    }
  }

  private static Path jar() throws IOException {
    try (DirectoryStream<Path> jars = Files.newDirectoryStream(Path.of("target"), "proxy-undertow-*-cli.jar")) {
      for (Path jar : jars) {
        return jar;
      }
    }
    throw new IllegalStateException("no runnable jar in target/: run mvn package first");
  }

  private static BlockingQueue<String> lines(Process process) {
    BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = in.readLine()) != null; ) {
          lines.add(line);
        }
      } catch (IOException ignored) {
        // the process ended
      }
    });
    reader.setDaemon(true);
    reader.start();
    return lines;
  }

  private static String poll(BlockingQueue<String> lines) throws InterruptedException {
    String line = lines.poll(30, TimeUnit.SECONDS);
    assertNotNull(line, "no output within 30s");
    return line;
  }

  private static String awaitMatch(BlockingQueue<String> lines, Pattern pattern) throws InterruptedException {
    while (true) {
      Matcher matcher = pattern.matcher(poll(lines));
      if (matcher.find()) {
        return matcher.groupCount() > 0 ? matcher.group(1) : matcher.group();
      }
    }
  }
}
