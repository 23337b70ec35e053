import { definerExecutable } from './anon_security_definer_function_executable.ts';

export default definerExecutable(
  'authenticated_security_definer_function_executable',
  'authenticated',
  'medium',
  'A SECURITY DEFINER function in an exposed schema can be executed by authenticated, so every signed-in user runs it with its owner\'s rights.',
);
