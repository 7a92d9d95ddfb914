package org.proxykit.undertow;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Starts proxykit servers from YAML on 127.0.0.1 port 0 and closes them after each test. */
final class Servers implements AfterEachCallback {
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private final List<ProxykitServer> started = new ArrayList<>();

  /** Starts a server whose config is {@code yaml}; listen defaults to 127.0.0.1:0 when absent. */
  ProxykitServer start(String yaml) {
    String config = yaml.contains("listen:") ? yaml : "server:\n  listen: 127.0.0.1:0\n  accessLog: off\n" + yaml;
    ProxykitServer server = Proxykit.server(ProxykitConfig.parse(config, "test.yaml", Path.of(".")));
    started.add(server);
    return server.start();
  }

  static URI url(ProxykitServer server, String path) {
    return server.urls().get(0).resolve(path);
  }

  static HttpResponse<String> get(ProxykitServer server, String path) throws IOException, InterruptedException {
    return HTTP.send(HttpRequest.newBuilder(url(server, path)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Sends {@code request} as raw bytes on a new connection and returns everything the server sent until it closed. */
  static String raw(ProxykitServer server, String request) throws IOException {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.urls().get(0).getPort())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(request.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream answer = new ByteArrayOutputStream();
      in.transferTo(answer);
      return answer.toString(StandardCharsets.ISO_8859_1);
    }
  }

  @Override
  public void afterEach(ExtensionContext context) {
    for (ProxykitServer server : started) {
      server.close();
    }
    started.clear();
  }
}
