export { type WebPage, type WebPageOptions, webPage } from './web-page.js';
