/**
 * The little of React's API the entry uses. The repo has no @types/react (adding it is a dependency change);
 * with it installed, delete this file.
 */
declare module 'react' {
  export const StrictMode: unknown;
  export function createElement(type: unknown, props?: Record<string, unknown> | null, ...children: unknown[]): unknown;
}

declare module 'react-dom/client' {
  export function createRoot(container: Element): { render(node: unknown): void };
}
