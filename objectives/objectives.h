// Registration of every objective (objectives.def).
#pragma once

namespace kiln {

void registerObjectiveDataHalves();  // run halves (runtime/trainer/objective_data.h): trainers
void registerObjectives();           // compile halves (objectives/objective.h): the driver, the tests

}  // namespace kiln
