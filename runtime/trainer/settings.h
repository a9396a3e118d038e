// The settings a compiled trainer carries (the executable's "config" section, `key = value`
// lines), as a versioned, typed schema: the compiler writes every key of it, and a trainer
// checks every key's presence and type when it loads, so a damaged or mismatched executable
// names the field instead of failing later (or throwing from a number conversion).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ir/diagnostics.h"

namespace kiln {

// Raised whenever a key is added, removed or changes type.
inline constexpr int kSettingsVersion = 4;
inline constexpr const char* kSettingsVersionKey = "settings.version";

enum class SettingType {
  Text,     // anything, may be empty
  Name,     // a non-empty word
  Count,    // an integer >= 0
  Integer,  // an integer
  Number,   // a finite decimal
  Flag,     // true or false
  List,     // items joined by joinConfigList (may be empty)
};

struct SettingSpec {
  const char* key;
  SettingType type;
};

// The settings every trainer has; an objective adds its own (runtime/trainer/objective_data.h).
const std::vector<SettingSpec>& settingsSchema();

// Checks the version, that every key of the schema is there with a value of its type, and that
// no unknown key is; `origin` (the trainer's path) and the key are named in the error.
Status checkSettings(const std::map<std::string, std::string>& settings, const std::string& origin);

// The value of a Count, Integer or Number setting of settings that passed checkSettings.
int64_t settingInt(const std::map<std::string, std::string>& settings, const std::string& key);
double settingNumber(const std::map<std::string, std::string>& settings, const std::string& key);

}  // namespace kiln
