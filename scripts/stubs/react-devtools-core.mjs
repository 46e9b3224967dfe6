// Stands in for react-devtools-core in the bundle. Ink imports it only when DEV=true, to
// connect to React DevTools; evlog ships no devtools, so that connection does nothing.
export default {
  initialize() {},
  connectToDevTools() {},
};
