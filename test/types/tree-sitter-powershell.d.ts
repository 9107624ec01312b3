// The grammar package ships no type declarations; it is a tree-sitter Language object.
declare module 'tree-sitter-powershell' {
  const language: unknown
  export default language
}
