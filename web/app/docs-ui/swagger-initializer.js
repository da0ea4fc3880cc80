window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: './openapi.yaml',
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    persistAuthorization: true,
    // "Try it out" goes to the server that serves these docs, not the spec's example server.
    requestInterceptor: function (req) {
      req.url = req.url.replace(/^https?:\/\/localhost:8080/, window.location.origin);
      return req;
    },
  });
};
