package org.proxykit.spawn;

import java.time.Duration;
import java.util.List;
import org.proxykit.api.ProxyRequest;
import org.proxykit.api.ProxyResponse;

/**
 * A JVM that spawns a TinyServer and then waits to be killed: {@code SpawnHost JAVA CLASSPATH}.
 * Prints {@code child pid N} once the child answered.
 */
public final class SpawnHost {
  private SpawnHost() {}

  public static void main(String[] args) throws Exception {
    SpawningHandler handler = SpawningHandler.builder(List.of(args[0], "-cp", args[1], TinyServer.class.getName(),
        "__PORT__", "--ignore-term")).stopTimeout(Duration.ofSeconds(1)).build();
    try (ProxyResponse response = handler.handle(ProxyRequest.blank("http://localhost/"))) {
      response.body().open().readAllBytes();
    }
    System.out.println("child pid " + handler.status().pid());
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
