/** Where a node starts in the expression text: 1-based line and column. */
export interface SourcePos {
  line: number;
  col: number;
}

export type LiteralValue = number | bigint | string | boolean | null;

export type BinaryOp = '+' | '-' | '*' | '/' | '%' | '=' | '!=' | '<' | '<=' | '>' | '>=' | 'and' | 'or';

/** The parsed expression tree; every node remembers where it starts for error messages. */
export type Expr =
  | { kind: 'literal'; value: LiteralValue; pos: SourcePos }
  | { kind: 'column'; name: string; pos: SourcePos }
  | { kind: 'unary'; op: '-' | 'not'; operand: Expr; pos: SourcePos }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr; pos: SourcePos }
  | { kind: 'in'; operand: Expr; list: Expr[]; negated: boolean; pos: SourcePos }
  | { kind: 'between'; operand: Expr; low: Expr; high: Expr; negated: boolean; pos: SourcePos }
  | { kind: 'is_null'; operand: Expr; negated: boolean; pos: SourcePos }
  | { kind: 'match'; op: 'like' | 'ilike' | 'regexp'; operand: Expr; pattern: Expr; negated: boolean; pos: SourcePos }
  | { kind: 'call'; name: string; args: Expr[]; pos: SourcePos }
  | { kind: 'case'; whens: { when: Expr; then: Expr }[]; otherwise: Expr | undefined; pos: SourcePos };

export function formatPos(pos: SourcePos): string {
  return `${pos.line}:${pos.col}`;
}

/** Names of the columns an expression reads, in order of first use. */
export function referencedColumns(expr: Expr): string[] {
  const names = new Set<string>();
  const visit = (node: Expr): void => {
    switch (node.kind) {
      case 'literal':
        return;
      case 'column':
        names.add(node.name);
        return;
      case 'unary':
      case 'is_null':
        visit(node.operand);
        return;
      case 'binary':
        visit(node.left);
        visit(node.right);
        return;
      case 'in':
        visit(node.operand);
        node.list.forEach(visit);
        return;
      case 'between':
        visit(node.operand);
        visit(node.low);
        visit(node.high);
        return;
      case 'match':
        visit(node.operand);
        visit(node.pattern);
        return;
      case 'call':
        node.args.forEach(visit);
        return;
      case 'case':
        for (const branch of node.whens) {
          visit(branch.when);
          visit(branch.then);
        }
        if (node.otherwise) visit(node.otherwise);
        return;
    }
  };
  visit(expr);
  return [...names];
}
