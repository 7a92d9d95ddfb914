/**
 * The wire protocol between {@code ProxyApp} and {@code ProxyMiddleware}, compatible with
 * WSGIProxy 0.1: the header names ({@link org.proxykit.protocol.ProxyHeaders}), attribute
 * headers ({@link org.proxykit.protocol.AttributeHeaders}, {@link org.proxykit.protocol.HeaderCodecs}),
 * and RFC 9421 HTTP Message Signatures ({@link org.proxykit.protocol.RequestSigner},
 * {@link org.proxykit.protocol.RequestVerifier}, {@link org.proxykit.protocol.Keys}).
 */
@NonNullByDefault
package org.proxykit.protocol;

import org.proxykit.api.NonNullByDefault;
