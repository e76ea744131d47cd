package dev.secondsite.auth;

/** The caller of a request, as its bearer token names it. */
public record Principal(String objectId, String clientId, String tenantId) {}
