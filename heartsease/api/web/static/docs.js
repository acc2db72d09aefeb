// Starts Swagger UI on /docs (a file, not inline script, for the Content-Security-Policy).
window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
