package org.proxykit.undertow;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Map;
import org.proxykit.api.Body;
import org.proxykit.api.ProxyHandler;
import org.proxykit.api.ProxyRequest;
import org.proxykit.api.ProxyResponse;

/**
 * The {@code echo} handler, WSGIProxy's sampleapp: answers 200 {@code application/json} with
 * the request as it arrived, the tool to see what a proxy chain delivered:
 * {@code {"method","scheme","serverName","serverPort","scriptName","pathInfo","queryString",
 * "remoteAddr","remotePort","headers":{name:[values]},"attributes":{...},"bodyLength"}}.
 * It reads the whole body and counts it, without keeping it. Attribute values that are
 * maps, collections, strings, numbers or booleans are shown as JSON, others as their
 * {@code toString()}.
 *
 * @since 0.1
 */
public final class EchoHandler implements ProxyHandler {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public ProxyResponse handle(ProxyRequest request) throws IOException {
    long bodyLength;
    try (InputStream body = request.body().open()) {
      bodyLength = body.transferTo(OutputStream.nullOutputStream());
    }
    ObjectNode echo = JSON.createObjectNode();
    echo.put("method", request.method());
    echo.put("scheme", request.scheme());
    echo.put("serverName", request.serverName());
    echo.put("serverPort", request.serverPort());
    echo.put("scriptName", request.scriptName());
    echo.put("pathInfo", request.pathInfo());
    echo.put("queryString", request.queryString());
    echo.put("remoteAddr", request.remoteAddr());
    echo.put("remotePort", request.remotePort());
    ObjectNode headers = echo.putObject("headers");
    request.headers().toMap().forEach((name, values) -> values.forEach(headers.withArray(name)::add));
    ObjectNode attributes = echo.putObject("attributes");
    for (Map.Entry<String, Object> attribute : request.attributes().entrySet()) {
      Object value = attribute.getValue();
      attributes.set(attribute.getKey(), toJson(value));
    }
    echo.put("bodyLength", bodyLength);
    return ProxyResponse.builder()
        .header("Content-Type", "application/json")
        .body(Body.of(JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(echo)))
        .build();
  }

  /** Returns plain values, maps and collections as JSON, anything else as its {@code toString()}. */
  private static com.fasterxml.jackson.databind.JsonNode toJson(Object value) {
    if (value instanceof Map) {
      ObjectNode object = JSON.createObjectNode();
      ((Map<?, ?>) value).forEach((key, item) -> object.set(String.valueOf(key), toJson(item)));
      return object;
    }
    if (value instanceof java.util.Collection) {
      com.fasterxml.jackson.databind.node.ArrayNode array = JSON.createArrayNode();
      ((java.util.Collection<?>) value).forEach(item -> array.add(toJson(item)));
      return array;
    }
    if (value == null || value instanceof Number || value instanceof Boolean || value instanceof String) {
      return JSON.valueToTree(value);
    }
    return JSON.getNodeFactory().textNode(String.valueOf(value));
  }

  @Override
  public String toString() {
    return "echo";
  }
}
