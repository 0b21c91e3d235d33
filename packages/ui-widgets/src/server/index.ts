export { type BuildPageOptions, type BuiltPage, buildPage } from './build-page.js';
export type { PageSource } from './bundle-page.js';
export { PAGE_CSS } from './page-css.js';
export { type WebPage, type WebPageOptions, webPage } from './web-page.js';
