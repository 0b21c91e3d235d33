export {
  type CreatedProject,
  type CreateProjectOptions,
  createProject,
  detectPackageManager,
  type PackageManager,
  packageName,
  projectManifest,
  setupCommands,
} from './create-project.js';
export {
  type ExampleManifest,
  loadTemplate,
  type Rewrite,
  TEMPLATE_NAMES,
  TEMPLATES,
  type Template,
  type TemplateInfo,
  type TemplateName,
} from './templates.js';
