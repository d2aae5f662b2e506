// @kd/grpc-auth: TLS, mutual TLS and bearer tokens for kd's gRPC servers (teacher, evaluator)
// and their clients (the trainer's teacher client, the cli's evaluator client).
export { AuthConfigError } from './errors.ts';
export { serverAuth, Transport, type ServerAuth, type ServerAuthSettings } from './server_auth.ts';
export { addServerAuthOptions, serverAuthSettings } from './server_auth_options.ts';
export { channelCredentials, clientAuthFromEnv, clientAuthVariables, clientOptions, describeClientAuth, type ClientAuth } from './client_auth.ts';
export { TOKEN_EXEMPT_PREFIX, type RefusedCall } from './token_interceptor.ts';
