/**
 * The request model every proxykit handler works with, the counterpart of the WSGI environ:
 * {@link org.proxykit.api.ProxyRequest}, {@link org.proxykit.api.ProxyResponse},
 * {@link org.proxykit.api.HttpHeaders}, {@link org.proxykit.api.Body} and the one-method
 * {@link org.proxykit.api.ProxyHandler} contract.
 */
@NonNullByDefault
package org.proxykit.api;
