export { PAGE_CSS } from './page-css.js';
export { type WebPage, type WebPageOptions, webPage } from './web-page.js';
