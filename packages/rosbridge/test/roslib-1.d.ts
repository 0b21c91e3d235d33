// roslib 1.4 ships no types; the tests use it as a plain-JS app would.
declare module 'roslib-1' {
  // biome-ignore lint/suspicious/noExplicitAny: an untyped CommonJS library, used as plain JS would
  const ROSLIB: Record<string, new (options: Record<string, unknown>) => any>;
  export default ROSLIB;
}
