package org.proxykit.examples;

import org.proxykit.api.ProxyRequest;

/** Compiles against proxy-api taken through the BOM, with no version of its own. */
public final class BlankRequest {
  private BlankRequest() {}

  public static void main(String[] args) {
    ProxyRequest request = ProxyRequest.blank(args.length > 0 ? args[0] : "http://127.0.0.1:8080/x?y=1");
    System.out.println(request.method() + " " + request.url());
  }
}
