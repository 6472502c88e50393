import { runSmoke } from './smoke_lib';
declare function print(this: void, s: string): void;
print(runSmoke());
