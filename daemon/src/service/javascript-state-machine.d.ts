// The subset of javascript-state-machine 3.x that state-machine.ts uses (the package ships no types).
declare module 'javascript-state-machine' {
  namespace StateMachine {
    interface Transition {
      name: string;
      from: string | string[];
      to: string;
    }
    interface Lifecycle {
      transition: string;
      from: string;
      to: string;
    }
    interface Options {
      init?: string;
      transitions: Transition[];
      methods?: Record<string, (lifecycle: Lifecycle, ...args: unknown[]) => unknown>;
    }
  }
  class StateMachine {
    constructor(options: StateMachine.Options);
    readonly state: string;
    is(state: string): boolean;
    can(transition: string): boolean;
    isPending(): boolean;
    transitions(): string[];
    allStates(): string[];
    allTransitions(): string[];
  }
  export = StateMachine;
}
