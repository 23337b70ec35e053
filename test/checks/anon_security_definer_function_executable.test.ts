import check from '../../checks/anon_security_definer_function_executable.ts';
import { describeAdvisorCheck } from '../support/advisor.ts';

describeAdvisorCheck(check);
